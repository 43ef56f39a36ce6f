package gen

import "encoding/binary"

// malformLabel turns the first label of the question into one of the
// reserved label type 0b01 (RFC 6891 section 5), which no decoder can
// follow.
func malformLabel(b []byte) []byte {
	b[qnameOff] = 0x40 | b[qnameOff]&0x3f
	return b
}

// malformLoop replaces the question by one whose name is a compression
// pointer to itself and drops every record.
func malformLoop(b []byte) []byte {
	b = appendPtr(b[:qnameOff], qnameOff)
	b = binary.BigEndian.AppendUint16(b, typeA)
	b = binary.BigEndian.AppendUint16(b, classIN)
	binary.BigEndian.PutUint16(b[4:], 1)
	clear(b[6:headerLen])
	return b
}

// malformTruncate cuts a message cut bytes into the first record after the
// question (qend is where the question ends), as a lost tail would, and
// reports whether there was such a record to cut.
func malformTruncate(b []byte, qend, cut int) ([]byte, bool) {
	if len(b) <= qend+cut {
		return b, false
	}
	return b[:qend+cut], true
}

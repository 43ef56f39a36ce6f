package craft

// Cases returns every crafted case, in the order of issue #4. Each call
// builds them afresh; the same call always gives the same bytes.
func Cases() []Case {
	return []Case{
		vlanThreeTags(),
		sll2Case(),
		tcpTwoMessages(),
		tcpOutOfOrder(),
		fragIPv6(),
		fragIPv4(),
		compressionLoop(),
		labelOver63(),
		forwardPointer(),
		snaplenCut(),
		threeQuestions(),
		mdnsCase(),
		erspanII(),
		name255(),
	}
}

// query returns a recursive query for one name, with an OPT record
// advertising edns octets unless edns is 0.
func query(id uint16, name string, qtype uint16, edns uint16) message {
	m := message{id: id, flags: flagRD, questions: []question{{name, qtype, classIN}}}
	if edns != 0 {
		m.additional = []record{opt(edns)}
	}
	return m
}

// reply returns the response to q from a recursive resolver: same ID,
// questions and OPT record, with rcode and answers.
func reply(q message, rcode uint16, answers ...record) message {
	return message{
		id:         q.id,
		flags:      q.flags | flagQR | flagRA | rcode,
		questions:  q.questions,
		answers:    answers,
		additional: q.additional,
	}
}

// Typical gaps between packets, in nanoseconds: the resolver answers from
// its cache in a few hundred microseconds, and odd values make a time
// rounded to microseconds visible.
const (
	gapRTT    = 312_345
	gapNext   = 1_000_017
	gapBurst  = 1_001
	gapServer = 87_654
)

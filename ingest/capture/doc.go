// Package capture reads capture files: classic pcap and pcapng, plain or
// compressed, as a stream of packets.
//
// Open (or OpenFile, for the concrete *File) recognises the compression
// (gzip, zstd, xz, lz4, bzip2 or none) and then the container by their magic
// bytes, never by the file name, and returns a Reader whose Next fills a
// Packet. Next returns io.EOF at the end of a stream that ends on a record
// boundary, and a *FormatError otherwise: it carries the byte offset in the
// decompressed stream and the frame number, and wraps ErrNotCapture,
// ErrTruncated, ErrCorrupt, ErrUnsupported or the underlying reader's error.
// Packets before the damage have already been delivered.
//
// Vocabulary: a record is one packet entry of a pcap file or one block of a
// pcapng file; a frame is a record that carries a packet, numbered from 1
// across all pcapng sections as tshark's frame.number; an interface is the pcap
// file header or a pcapng Interface Description Block.
//
// Ownership: Packet.Data points into the File's read buffer, which is reused;
// it is valid until the next call to Next. Reading allocates nothing per
// packet.
//
// Timestamps are nanoseconds since the epoch, exact for every pcap and pcapng
// resolution down to 1 ns (finer ones are truncated) and past 2106. Simple
// Packet Blocks carry no time: they get the time of the packet before them
// and Packet.NoTimestamp, never the wall clock.
//
// PcapWriter and PcapngWriter write the two formats back, for generators,
// re-segmenting and tests.
//
// Limitations:
//   - Records longer than 256 KiB (maxCaptureLen) are refused as corrupt, as
//     Wireshark does; USB and other captures beyond that need a larger bound.
//   - Modified pcap variants (Kuznetsov's a1b2cd34 and others) are not
//     capture files to this package.
//   - pcapng Name Resolution, Decryption Secrets and custom blocks are skipped;
//     packet block options (flags, hashes, drop counts) are not read; of the
//     statistics only isb_ifrecv, isb_ifdrop and isb_osdrop are kept.
//   - Compressed streams are decoded as they are read, so packets before a
//     failed checksum at the end of a gzip member or zstd frame have already
//     been delivered when the error is reported.
//   - The pcap header's time zone field is ignored, as libpcap and Wireshark
//     ignore it.
//   - A zstd window or an xz dictionary over 64 MiB (zstdMaxWindow,
//     xzMaxDict) fails the stream as corrupt, before it is allocated; so do
//     xz blocks filtered otherwise than by LZMA2 alone (delta, BCJ), which
//     the xz library does not decode either.
package capture

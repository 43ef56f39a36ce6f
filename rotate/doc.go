// Package rotate writes a stream of packets into rolling capture files, as a
// sensor does: it re-segments an existing capture or records a live
// AF_PACKET capture.
//
// A Rotator takes packets (WritePacket) and writes them into the current
// file, pcapng (an Interface Description Block a link type, an Interface Statistics
// Block at close) or classic pcap, with nanosecond timestamps, compressed
// with zstd (default), gzip or nothing. Compressed files are written in
// independently decodable frames (zstd frames, gzip members) of at most
// Config.FrameBytes uncompressed bytes or Config.FramePackets packets, so a
// crash loses at most the frame being written.
//
// A file rotates when it reaches Config.MaxBytes bytes on disk or
// Config.MaxPackets packets, when packet time (or the wall clock, see
// Config.Now) crosses a multiple of Config.Every since the epoch, when the
// link type changes, and when Rotate is called. Files are named
// SENSOR-YYYYMMDDTHHMMSSZ-NNNNNN.EXT (Name), the time being the UTC time of
// the first packet and NNNNNN a sequence number that continues across runs.
//
// Durability: a file is written as NAME.part; at close it is flushed and
// fsynced, its sidecar NAME.json (Sidecar) is written, fsynced and renamed
// into place, then NAME.part is renamed to NAME and the directory fsynced.
// Recover, run at start, finalizes the .part files a crash left: one whose
// sidecar matches it is only renamed, any other is rewritten up to its last
// decodable record and its sidecar says Recovered.
//
// Retention (Config.KeepFiles, KeepBytes, MinFree) deletes the oldest
// finished files of the sensor and their sidecars at New and after each
// close; it always keeps the newest and never touches a .part file.
// Config.OnClose runs a command on each finished file.
//
// Live opens an AF_PACKET TPACKET_V3 capture, optionally over several
// sockets in a fanout group, with DNSFilter as the default BPF program. It
// is a capture.Reader, like a capture file, and Run copies either into a
// Rotator until the source ends or the context is done.
//
// Words: a packet is one record of a capture file; a frame is a unit of the
// compressed stream (not a link-layer frame); a file is finished once it has
// been renamed from NAME.part to NAME.
//
// Limitations:
//   - A pcap file has one link type: with FormatPcap, a change of link
//     type starts a new file, so input of interleaved interfaces of
//     different link types is split into many small files. A pcapng file
//     describes an interface a link type and keeps them all.
//   - Size rotation counts compressed bytes as frames are completed, so a
//     file can exceed MaxBytes by up to one frame.
//   - Packets from several fanout sockets are merged in arrival order, which
//     is not strictly timestamp order; packets still in the rings at Stop are
//     not read.
//   - Frames are written, not fsynced, as they end: a power cut can lose
//     more than one frame of the open file.
package rotate

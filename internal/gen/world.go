package gen

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
)

// host is one end of the traffic, with what the link layer shows of it.
type host struct {
	addr   netip.Addr
	mac    [6]byte
	vlans  []uint16 // VLAN IDs, outermost first
	tags   []byte   // the tags as on the wire: TPID and TCI per tag
	cooked bool     // seen on the pcapng SLL2 interface
	server netip.Addr
	cookie [8]byte // the client's EDNS cookie (RFC 7873)
}

// zone is a registered domain: the apex of the names under it.
type zone struct {
	wire   []byte
	nsSet  int // NS records it has, 2–4
	serial uint32
}

// name is one queried name with the records it owns.
type name struct {
	text    string
	wire    []byte
	apexOff int // offset of the zone apex inside wire
	zone    *zone
	cnames  [][]byte // CNAME chain targets in wire form, in chain order
	nA      int
	nAAAA   int
	ttl     uint32
	key     uint64 // varies the addresses and TXT data between names
}

// world is everything that stays fixed during one generation.
type world struct {
	clients []host
	byFam   [2][]int // indices of IPv4 and IPv6 clients
	gateway [6]byte
	cdns    [][]byte // CDN zones that CNAME chains lead to, in wire form
	zones   []zone
	names   []name

	services   []name // mDNS service types
	llmnrNames []name // single-label names asked with LLMNR
}

// Name building blocks. The host prefixes are the common ones; labels are
// made of syllables so that names look like names without being real ones.
var (
	hostPrefixes = []string{
		"", "www", "api", "cdn", "mail", "static", "login", "m", "app", "img", "auth", "edge",
	}
	tlds         = []string{"com", "com", "com", "com", "net", "net", "org", "io", "de", "co.uk", "fr", "nl"}
	consonants   = "bcdfghklmnprstvz"
	vowels       = "aeiou"
	ttls         = []uint32{30, 60, 300, 300, 300, 900, 3600, 3600, 86400}
	mdnsServices = []string{
		"_googlecast._tcp.local", "_airplay._tcp.local", "_ipp._tcp.local",
		"_spotify-connect._tcp.local", "_services._dns-sd._udp.local",
	}
)

func newWorld(cfg Config, r *rand.Rand) *world {
	w := &world{gateway: [6]byte{0x02, 0, 0, 0, 0, 0x01}}
	w.buildClients(cfg, r)
	w.buildZones(cfg.Names, r)
	w.buildNames(cfg.Names, r)
	for _, s := range mdnsServices {
		w.services = append(w.services, name{text: s, wire: wireName(s)})
	}
	for _, s := range []string{"wpad", "fileserver", "printer-2", "nas", "desktop-" + label(r, 3)} {
		w.llmnrNames = append(w.llmnrNames, name{text: s, wire: wireName(s)})
	}
	return w
}

func (w *world) buildClients(cfg Config, r *rand.Rand) {
	w.clients = make([]host, cfg.Clients)
	for i := range w.clients {
		c := &w.clients[i]
		binary.BigEndian.PutUint64(c.cookie[:], r.Uint64())
		var m [8]byte
		binary.LittleEndian.PutUint64(m[:], r.Uint64())
		copy(c.mac[:], m[:6])
		c.mac[0] = c.mac[0]&0xfc | 0x02 // locally administered, unicast
		res := r.IntN(cfg.Resolvers)
		fam := 0
		if r.Float64() < cfg.IPv6 {
			fam = 1
			iid := r.Uint64()
			c.addr = addr6(0x20010db8_00200000|uint64(i/200), iid)
			c.server = addr6(0x20010db8_00530000, uint64(res+1))
		} else {
			c.addr = netip.AddrFrom4([4]byte{10, 20, byte(i / 200), byte(10 + i%200)})
			c.server = netip.AddrFrom4([4]byte{10, 53, 0, byte(res + 1)})
		}
		w.byFam[fam] = append(w.byFam[fam], i)
		c.vlans, c.tags = pickTags(cfg, r)
		c.cooked = len(c.vlans) == 0 && r.Float64() < cfg.Cooked
	}
}

// pickTags chooses the VLAN tags in front of a client. Access VLANs and
// service tags are a small fixed set, as on a campus; a fifth of the tags
// carry priority 5 so that a decoder must mask the VLAN ID out of the TCI.
func pickTags(cfg Config, r *rand.Rand) ([]uint16, []byte) {
	access := []uint16{10, 20, 30, 40, 110, 120, 200, 310, 1001, 4000}
	outer := []uint16{100, 200, 300}
	tag := func(b []byte, tpid, vid uint16) []byte {
		tci := vid
		if r.IntN(5) == 0 {
			tci |= 5 << 13
		}
		return append(b, byte(tpid>>8), byte(tpid), byte(tci>>8), byte(tci))
	}
	switch x := r.Float64(); {
	case x < cfg.QinQ:
		tpid := uint16(0x88a8)
		if r.IntN(5) == 0 {
			tpid = 0x9100 // the pre-standard outer tag some switches still send
		}
		o, a := outer[r.IntN(len(outer))], access[r.IntN(len(access))]
		return []uint16{o, a}, tag(tag(nil, tpid, o), 0x8100, a)
	case x < cfg.QinQ+cfg.VLAN:
		a := access[r.IntN(len(access))]
		return []uint16{a}, tag(nil, 0x8100, a)
	}
	return nil, nil
}

func addr6(hi, lo uint64) netip.Addr {
	var b [16]byte
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	return netip.AddrFrom16(b)
}

// buildZones makes one zone for every six popular names, with distinct
// apexes, and a few CDN zones.
func (w *world) buildZones(names int, r *rand.Rand) {
	seen := map[string]bool{}
	n := (names + len(hostPrefixes)/2 - 1) / (len(hostPrefixes) / 2)
	for len(w.zones) < n {
		apex := label(r, 2+r.IntN(2)) + "." + tlds[r.IntN(len(tlds))]
		if seen[apex] {
			continue
		}
		seen[apex] = true
		w.zones = append(w.zones, zone{
			wire:   wireName(apex),
			nsSet:  2 + r.IntN(3),
			serial: 2026000000 + r.Uint32N(1000000),
		})
	}
	for range 4 {
		w.cdns = append(w.cdns, wireName("edge"+label(r, 2)+".net"))
	}
}

// buildNames makes the popular names: name i lives in zone i mod zones, so
// the most popular names spread over many zones.
func (w *world) buildNames(n int, r *rand.Rand) {
	w.names = make([]name, n)
	for i := range w.names {
		z := &w.zones[i%len(w.zones)]
		prefix := hostPrefixes[i/len(w.zones)]
		w.names[i] = w.newName(prefix, z, r)
	}
}

func (w *world) newName(prefix string, z *zone, r *rand.Rand) name {
	apex := presentation(z.wire)
	nm := name{text: apex, zone: z, ttl: ttls[r.IntN(len(ttls))], key: r.Uint64()}
	if prefix != "" {
		nm.text = prefix + "." + apex
		nm.apexOff = len(prefix) + 1
	}
	nm.wire = wireName(nm.text)
	nm.nA = 1 + r.IntN(2)
	if r.IntN(10) < 6 {
		nm.nAAAA = 1 + r.IntN(2)
	}
	if r.IntN(10) < 3 {
		flat := strings.ReplaceAll(nm.text, ".", "-")
		cdn := w.cdns[r.IntN(len(w.cdns))]
		nm.cnames = append(nm.cnames, under(flat, cdn))
		if r.IntN(2) == 0 {
			edge := w.cdns[r.IntN(len(w.cdns))]
			nm.cnames = append(nm.cnames, under("e"+strconv.Itoa(r.IntN(10000))+".a", edge))
		}
	}
	return nm
}

// nxName makes a name that does not exist: a random label, as typos, probes
// and random-subdomain floods make them, under a real zone.
func (w *world) nxName(z *zone, r *rand.Rand) *name {
	b := make([]byte, 6+r.IntN(8))
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[r.IntN(36)]
	}
	text := string(b) + "." + presentation(z.wire)
	return &name{text: text, wire: wireName(text), apexOff: len(b) + 1, zone: z, ttl: 300}
}

// under makes the wire form of the name text under the zone in wire form.
func under(text string, zone []byte) []byte {
	w := wireName(text)
	return append(w[:len(w)-1], zone...)
}

func label(r *rand.Rand, syllables int) string {
	b := make([]byte, 0, 2*syllables)
	for range syllables {
		b = append(b, consonants[r.IntN(len(consonants))], vowels[r.IntN(len(vowels))])
	}
	return string(b)
}

// wireName encodes a presentation name without escapes (RFC 1035 section
// 3.1); the names built here never need any.
func wireName(text string) []byte {
	b := make([]byte, 0, len(text)+2)
	for l := range strings.SplitSeq(text, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// presentation is the inverse of wireName for uncompressed names.
func presentation(wire []byte) string {
	var sb strings.Builder
	for i := 0; wire[i] != 0; i += int(wire[i]) + 1 {
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.Write(wire[i+1 : i+1+int(wire[i])])
	}
	return sb.String()
}

package rotate

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// asm builds a classic BPF program with forward jumps to named labels, which
// it resolves into the relative skips BPF wants.
type asm struct {
	prog   []bpf.Instruction
	labels map[string]int    // label: index of the instruction it names
	fix    map[int][2]string // jump index: labels when true and when false
}

func (a *asm) ins(i bpf.Instruction) { a.prog = append(a.prog, i) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.prog)
}

// jumpTo appends i and records the labels its skips must reach; "" falls
// through.
func (a *asm) jumpTo(i bpf.Instruction, ifTrue, ifFalse string) {
	if a.fix == nil {
		a.fix = map[int][2]string{}
	}
	a.fix[len(a.prog)] = [2]string{ifTrue, ifFalse}
	a.ins(i)
}

func (a *asm) jeq(v uint32, to string) {
	a.jumpTo(bpf.JumpIf{Cond: bpf.JumpEqual, Val: v}, to, "")
}

func (a *asm) jset(mask uint32, to string) {
	a.jumpTo(bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: mask}, to, "")
}

func (a *asm) jump(to string) { a.jumpTo(bpf.Jump{}, to, "") }

func (a *asm) drop() { a.ins(bpf.RetConstant{Val: 0}) }

// resolve returns the program with every label turned into a skip.
func (a *asm) resolve() ([]bpf.Instruction, error) {
	prog := append([]bpf.Instruction(nil), a.prog...)
	for at, to := range a.fix {
		skips := [2]uint32{}
		for k, name := range to {
			if name == "" {
				continue
			}
			dst, ok := a.labels[name]
			if !ok || dst <= at || dst-at-1 > 255 {
				return nil, fmt.Errorf("assemble filter: jump to %q from %d out of reach", name, at)
			}
			skips[k] = uint32(dst - at - 1)
		}
		switch j := prog[at].(type) {
		case bpf.JumpIf:
			j.SkipTrue, j.SkipFalse = uint8(skips[0]), uint8(skips[1])
			prog[at] = j
		case bpf.Jump:
			prog[at] = bpf.Jump{Skip: skips[0]}
		}
	}
	return prog, nil
}

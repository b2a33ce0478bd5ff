#include "textflag.h"

// func quoteMasksAVX2(b *byte, blocks int, masks *uint64) (flags uint64)
//
// For each 64-byte block of b, writes the mask of its quotes (bit i is
// byte i). flags: bit 0 when a block holds a backslash or a byte below
// 0x20, bit 1 when it holds a byte of 0x80 or more.
TEXT ·quoteMasksAVX2(SB), NOSPLIT, $0-32
	MOVQ b+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ masks+16(FP), DI

	MOVQ $0x2222222222222222, AX // '"'
	VMOVQ AX, X0
	VPBROADCASTQ X0, Y8
	MOVQ $0x5c5c5c5c5c5c5c5c, AX // '\\'
	VMOVQ AX, X0
	VPBROADCASTQ X0, Y9
	MOVQ $0x1f1f1f1f1f1f1f1f, AX // max(b, 0x1f) == 0x1f: a control byte
	VMOVQ AX, X0
	VPBROADCASTQ X0, Y10
	VPXOR Y5, Y5, Y5 // backslashes and control bytes seen
	VPXOR Y6, Y6, Y6 // every byte OR-ed: the top bit is non-ASCII

loop:
	TESTQ CX, CX
	JZ done
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1

	VPCMPEQB Y8, Y0, Y2
	VPMOVMSKB Y2, AX
	VPCMPEQB Y8, Y1, Y3
	VPMOVMSKB Y3, BX
	SHLQ $32, BX
	ORQ BX, AX
	MOVQ AX, (DI)

	VPCMPEQB Y9, Y0, Y2
	VPCMPEQB Y9, Y1, Y3
	VPOR Y2, Y3, Y2
	VPMAXUB Y10, Y0, Y3
	VPCMPEQB Y10, Y3, Y3
	VPOR Y3, Y2, Y2
	VPMAXUB Y10, Y1, Y3
	VPCMPEQB Y10, Y3, Y3
	VPOR Y3, Y2, Y2
	VPOR Y2, Y5, Y5
	VPOR Y0, Y6, Y6
	VPOR Y1, Y6, Y6

	ADDQ $64, SI
	ADDQ $8, DI
	DECQ CX
	JMP loop

done:
	VPMOVMSKB Y5, AX
	VPMOVMSKB Y6, BX
	VZEROUPPER
	XORQ DX, DX
	TESTL AX, AX
	JZ ascii
	ORQ $1, DX
ascii:
	TESTL BX, BX
	JZ ret
	ORQ $2, DX
ret:
	MOVQ DX, flags+24(FP)
	RET

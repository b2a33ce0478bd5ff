#include "textflag.h"

// func quoteMasksAVX2(b *byte, blocks int, masks *uint64, inString uint64) (flags uint64)
//
// For each 64-byte block of b, writes the mask of its quotes (bit i is
// byte i). flags: bit 0 when a block holds a backslash or a byte below
// 0x20, bit 1 when it holds a byte of 0x80 or more, bit 2 when it holds
// a space outside strings (strings taken as if b held no backslash: the
// bit only matters when bit 0 is clear), bit 3 when b ends inside a
// string. inString: all ones when b starts inside a string.
TEXT ·quoteMasksAVX2(SB), NOSPLIT, $0-40
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
	MOVQ $0x2020202020202020, AX // ' '
	VMOVQ AX, X0
	VPBROADCASTQ X0, Y11
	MOVQ $-1, AX // all ones: a carry-less product by it is a prefix XOR
	VMOVQ AX, X12
	VPXOR Y5, Y5, Y5 // backslashes and control bytes seen
	VPXOR Y6, Y6, Y6 // every byte OR-ed: the top bit is non-ASCII
	MOVQ inString+24(FP), R8 // all ones while inside a string at a block's end
	XORQ R9, R9      // spaces outside strings seen

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

	// Inside strings: a prefix XOR of the quotes (from an opening quote,
	// included, to its closing quote, excluded), carried across blocks.
	VMOVQ AX, X13
	VPCLMULQDQ $0x00, X12, X13, X13
	VMOVQ X13, DX
	XORQ R8, DX
	MOVQ DX, R8
	SARQ $63, R8
	// Spaces outside them.
	VPCMPEQB Y11, Y0, Y2
	VPMOVMSKB Y2, AX
	VPCMPEQB Y11, Y1, Y3
	VPMOVMSKB Y3, BX
	SHLQ $32, BX
	ORQ BX, AX
	NOTQ DX
	ANDQ DX, AX
	ORQ AX, R9

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
	JZ spaces
	ORQ $2, DX
spaces:
	TESTQ R9, R9
	JZ open
	ORQ $4, DX
open:
	TESTQ R8, R8
	JZ ret
	ORQ $8, DX
ret:
	MOVQ DX, flags+32(FP)
	RET

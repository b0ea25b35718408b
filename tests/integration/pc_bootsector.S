/*
 * The boot sector of pc_bootsector_image (tests/integration/pc_images.bash):
 * real-mode code the BIOS loads at 0:0x7c00 and jumps to with the boot drive
 * in %dl. On COM1 it prints the message (message.bin, put beside this file's
 * object by .incbin, NUL-terminated here) and "\r\n"; then it reads LBA 1 of
 * the boot drive with INT 13h AH=42h (the extended read, the one an NVMe or
 * AHCI disk is reached by) to 0:0x8000 and prints its first 32 bytes and
 * "\r\n"; then whether the BIOS's own memory (0xf0000, shadow RAM the
 * firmware write-protected through the chipset's PAM registers before it
 * booted us) took a write: "BIOS-RO\r\n" if not, "BIOS-RW\r\n" if it did
 * (the byte is put back); then "BOOT-OK\r\n", and halts for good. A failed read prints
 * "READ-FAIL AH=XX\r\n" (XX: the BIOS's status in hex) and halts. Its only
 * other BIOS call is one INT 10h backspace first (see below).
 *
 * COM1 is written by polling: each byte waits for the LSR's (0x3fd) bit 5
 * (THR empty) and is then put in the THR (0x3f8). Nothing is set up: the
 * firmware already programmed the UART. An absent UART reads 0xff, which
 * has bit 5 set, so the loop cannot hang on it.
 *
 * Comments are C style so that the file assembles both with `as --32`
 * (what pc_images.bash uses: binutils alone, as in the test machine) and
 * with `gcc -m32 -c` (which runs cpp first).
 */
	.code16
	.text
	.globl	_start
_start:
	/* Some BIOSes jump to 0x7c0:0; make it CS=0, IP=0x7c00+ (we link at 0x7c00). */
	ljmp	$0, $start2
start2:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$0x7c00, %sp	/* the stack grows down below the sector */
	sti
	cld
	movb	%dl, boot_drive	/* as the BIOS passed it */

	/*
	 * SeaBIOS's serial console (sercon: on when etc/sercon-port is set, as
	 * under QEMU -nographic and in tandem-vmm) mirrors INT 10h text to COM1
	 * lazily: it still holds the last '.' of "Booting from Hard Disk..."
	 * and sends it (and the cursor moves since) at its next timer tick,
	 * which can come during our INT 13h read, i.e. in the middle of our
	 * output. A teletype backspace makes it flush now; at column 0 (where
	 * the BIOS's "...\n" left the cursor) it moves nothing, on a VGA either.
	 */
	movw	$0x0e08, %ax
	xorw	%bx, %bx
	int	$0x10

	movw	$message, %si
	call	puts
	movw	$crlf, %si
	call	puts

	/* INT 13h AH=42h: DL = drive, DS:SI = the disk address packet. */
	movw	$dap, %si
	movb	boot_drive, %dl
	movb	$0x42, %ah
	int	$0x13
	jc	read_fail
	testb	%ah, %ah
	jnz	read_fail

	/* The first 32 bytes of the sector, as they are. */
	movw	$0x8000, %si
	movw	$32, %cx
1:	lodsb
	call	putc
	loop	1b
	movw	$crlf, %si
	call	puts

	/* 0xf000:0: complement the byte, look, put the old one back. */
	movw	$0xf000, %ax
	movw	%ax, %es
	movb	%es:0, %bl
	movb	%bl, %bh
	notb	%bh
	movb	%bh, %es:0
	movw	$bios_ro, %si
	cmpb	%bl, %es:0
	je	4f
	movb	%bl, %es:0
	movw	$bios_rw, %si
4:	call	puts
	movw	$boot_ok, %si
	call	puts
	jmp	halt

read_fail:
	movb	%ah, %bl	/* the status, before puts clobbers %ax */
	movw	$read_fail_msg, %si
	call	puts
	movb	%bl, %al
	shrb	$4, %al
	call	hex_digit
	movb	%bl, %al
	andb	$0x0f, %al
	call	hex_digit
	movw	$crlf, %si
	call	puts

halt:
	cli
	hlt
	jmp	halt

/* hex_digit: prints %al (0..15) as one upper-case hex digit. */
hex_digit:
	addb	$0x30, %al	/* '0' */
	cmpb	$0x39, %al	/* '9' */
	jbe	putc
	addb	$7, %al		/* 'A' - '9' - 1 */
	/* fall through */

/* putc: prints %al on COM1 (waits for THR empty first). Keeps every register. */
putc:
	pushw	%dx
	pushw	%ax
	movw	$0x3fd, %dx
2:	inb	%dx, %al
	testb	$0x20, %al
	jz	2b
	popw	%ax
	movw	$0x3f8, %dx
	outb	%al, %dx
	popw	%dx
	ret

/* puts: prints the NUL-terminated string at %ds:%si. */
puts:
	lodsb
	testb	%al, %al
	jz	3f
	call	putc
	jmp	puts
3:	ret

/* The disk address packet: 16 bytes, 1 sector, to 0000:8000, from LBA 1. */
	.balign	4
dap:
	.byte	0x10, 0
	.word	1
	.word	0x8000, 0
	.quad	1

boot_drive:
	.byte	0
crlf:
	.asciz	"\r\n"
boot_ok:
	.asciz	"BOOT-OK\r\n"
bios_ro:
	.asciz	"BIOS-RO\r\n"
bios_rw:
	.asciz	"BIOS-RW\r\n"
read_fail_msg:
	.asciz	"READ-FAIL AH="
message:
	.incbin	"message.bin"
	.byte	0

	/* Code and data end before the partition table's place (0x1be). */
	.org	0x1be
	.org	510
	.byte	0x55, 0xaa

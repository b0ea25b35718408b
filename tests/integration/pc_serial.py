# The PC boot tests' serial driver (tests/integration/pc_images_qemu_check.sh
# on QEMU, pc_nvme.sh on tandem-vmm): reads the machine's COM1 output from
# a file and types into its input fifo.
#   pc_serial.py boot OUT MESSAGE EXPECT   the boot sector's output
#                                          (pc_images.bash), exactly;
#   pc_serial.py grub OUT FIFO HEXFILE     GRUB's prompt, then `cat` of the
#                                          secret typed one character at a
#                                          time, every character checked.
# Prints one line (the timings, or what went wrong with the end of the
# output) and exits 0 or 1. SERIAL_T0: the machine's start (epoch seconds)
# for the times; BOOT_WAIT: seconds to wait for each step (180).
import os, re, sys, time

T0 = float(os.environ.get("SERIAL_T0") or time.time())
WAIT = float(os.environ.get("BOOT_WAIT", "180"))
# GRUB's serial terminal is vt100: cursor moves (ESC [ r ; c H) surround
# every echoed character; the text is what is left without them.
ESC = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1bc")


def now():
    return time.time() - T0


def out_bytes():
    with open(OUT, "rb") as f:
        return f.read()


def done(ok, msg):
    print(msg)
    sys.exit(0 if ok else 1)


def tail(b):
    return repr(ESC.sub(b"", b)[-240:])


def wait(pred, what, limit=WAIT):
    """Polls the output until pred(bytes) is true; fails after `limit` s."""
    end = time.monotonic() + limit
    while True:
        d = out_bytes()
        if pred(d):
            return d
        if time.monotonic() > end:
            done(False, "no %s after %.0f s; output ends %s" % (what, limit, tail(d)))
        time.sleep(0.02)


def boot(message, expect_file):
    with open(expect_file, "rb") as f:
        line = f.read().rstrip(b"\n")
    # BIOS-RO: the BIOS's own memory did not take the boot sector's write
    # (SeaBIOS write-protects it through PAM before it boots a disk).
    want = message.encode() + b"\r\n" + line + b"\r\n" + b"BIOS-RO\r\n" + b"BOOT-OK\r\n"
    fail_re = re.compile(rb"READ-FAIL AH=[0-9A-F]{2}\r\n")
    d = wait(lambda d: b"BOOT-OK\r\n" in d or fail_re.search(d), "BOOT-OK")
    t = now()
    m = fail_re.search(d)
    if m:
        done(False, "the INT 13h read failed: %r after %.1f s" % (m.group(0), t))
    if want not in d:
        done(False, "BOOT-OK, but the output is not %r: it ends %s" % (want, tail(d)))
    # It halts: nothing more comes out.
    time.sleep(1.0)
    after = out_bytes()[d.index(want) + len(want):]
    if after:
        done(False, "output after BOOT-OK: %r" % after[:80])
    done(True, "BOOT-OK after %.1f s, message, LBA 1 line and BIOS-RO exact" % t)


def grub(fifo, hex_file):
    with open(hex_file, "rb") as f:
        hexd = f.read().rstrip(b"\n")
    cfg = b"TANDEM-GRUB-CFG: loaded from hd0,msdos1"
    d = wait(lambda d: cfg in d, "grub.cfg line (%r)" % cfg.decode())
    t_cfg = now()
    start = d.index(cfg)
    d = wait(lambda d: b"grub> " in d[start:], "grub> prompt")
    t_prompt = now()
    p = d.index(b"grub> ", start) + len(b"grub> ")
    cmd = b"cat (hd0,msdos1)/secret.txt"
    fd = os.open(fifo, os.O_WRONLY)
    try:
        # One character at a time, each echoed before the next: no reliance
        # on the UART's receive FIFO depth.
        for i in range(len(cmd)):
            os.write(fd, cmd[i:i + 1])
            typed = cmd[:i + 1]
            wait(lambda d: ESC.sub(b"", d[p:]) == typed,
                 "echo of %r" % typed.decode(), 30)
        os.write(fd, b"\r")
        d = wait(lambda d: b"grub> " in d[p:], "second grub> prompt", 60)
    finally:
        os.close(fd)
    t_done = now()
    # Every character from the prompt to the next one: the echo, then cat's
    # line with nothing in or around it (GRUB ends lines with "\n\r"), then
    # the blank line GRUB puts before its prompt.
    region = d[p:d.index(b"grub> ", p) + len(b"grub> ")]
    want = cmd + b"\n\r" + hexd + b"\n\r\n\rgrub> "
    if ESC.sub(b"", region) != want:
        done(False, "after the prompt %r, want %r" % (ESC.sub(b"", region), want))
    if b"\n\r" + hexd + b"\n\r\n\r" not in region:
        done(False, "cat's line has escapes in it: %r" % region[-120:])
    done(True, "grub.cfg read at %.1f s, grub> at %.1f s, secret.txt's %d hex digits exact at %.1f s"
         % (t_cfg, t_prompt, len(hexd), t_done))


OUT = None   # the output file: set from the command line, or by an importer


if __name__ == "__main__":
    mode, OUT = sys.argv[1], sys.argv[2]
    if mode == "boot":
        boot(sys.argv[3], sys.argv[4])
    elif mode == "grub":
        grub(sys.argv[3], sys.argv[4])
    else:
        done(False, "pc_serial.py: unknown mode %s" % mode)

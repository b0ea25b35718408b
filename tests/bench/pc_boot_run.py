# One boot of tests/bench/pc_boot_bench.sh: starts a PC (tandem-vmm or
# QEMU, the command after "--") with COM1 on its stdin/stdout, times its
# milestones from the process's start by watching that output, checks the
# boot the way the boot tests do, and stops the process by its pid.
#
#   pc_boot_run.py boot DIR MESSAGE EXPECT -- CMD...
#       the boot sector of pc_images.bash: the SeaBIOS banner, then BOOT-OK
#   pc_boot_run.py grub DIR HEXFILE -- CMD...
#       GRUB's image: the banner, grub.cfg's line, the `grub>` prompt
#
# DIR (made by the caller) gets the machine's output (con), input fifo (in)
# and log (err). Prints one line of key=value: ok=1 banner_s=.. bootok_s=..
# (boot) or cfg_s=.. prompt_s=.. (grub), check= the checker's verdict; or
# ok=0 error="..." and the end of the output. Exit status 0 or 1.
#
# The waiting and the checks are tests/integration/pc_serial.py's own (its
# wait(), boot() and grub()), imported, not copied: after a boot milestone
# is timed, boot() checks the whole output (MESSAGE, the LBA 1 line,
# nothing after BOOT-OK) and grub() types `cat (hd0,msdos1)/secret.txt`
# at the prompt and checks every character; a boot that fails those checks
# is reported as failed, not timed. BOOT_WAIT: seconds per step (180).
import contextlib, importlib.util, io, os, signal, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
SERIAL_PY = os.path.join(HERE, "..", "integration", "pc_serial.py")
BANNER = b"SeaBIOS (version"
GRUB_CFG = b"TANDEM-GRUB-CFG: loaded from hd0,msdos1"


def load_pc_serial():
    """pc_serial.py as a module (its command line runs only as a script)."""
    spec = importlib.util.spec_from_file_location("pc_serial", SERIAL_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name in ("wait", "boot", "grub", "tail", "now"):
        if not hasattr(mod, name):
            sys.exit("pc_boot_run: %s has no %s() any more" % (SERIAL_PY, name))
    return mod


def check(fn, *args):
    """Runs one of pc_serial's checks (which print a line and exit):
    (ok, its line)."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            fn(*args)
    except SystemExit as e:
        return e.code in (0, None), out.getvalue().strip()
    return False, "the check returned without a verdict: " + out.getvalue().strip()


def main():
    if "--" not in sys.argv:
        sys.exit("usage: pc_boot_run.py boot DIR MESSAGE EXPECT -- CMD... | grub DIR HEXFILE -- CMD...")
    sep = sys.argv.index("--")
    args, cmd = sys.argv[1:sep], sys.argv[sep + 1:]
    mode, d = args[0], args[1]
    ps = load_pc_serial()
    out, fifo, err = (os.path.join(d, n) for n in ("con", "in", "err"))
    open(out, "wb").close()
    os.mkfifo(fifo)
    # The fifo held open read-write here: the machine's stdin never sees
    # end-of-file, and opening it does not wait for a writer.
    fin = os.open(fifo, os.O_RDWR)
    ps.OUT, ps.WAIT = out, float(os.environ.get("BOOT_WAIT", "180"))
    with open(out, "wb") as fout, open(err, "wb") as ferr:
        t0 = time.time()
        proc = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=ferr, close_fds=True)
    ps.T0 = t0
    res = {}
    ok, verdict = False, ""
    try:
        # A machine that dies early (e.g. QEMU without KVM) is reported at once.
        def alive_and(pred):
            def p(b):
                if proc.poll() is not None:
                    raise ChildProcessError("exited with status %d" % proc.returncode)
                return pred(b)
            return p

        def wait(pred, what):
            said = io.StringIO()
            try:
                with contextlib.redirect_stdout(said):
                    ps.wait(alive_and(pred), what)
            except SystemExit:
                raise TimeoutError(said.getvalue().strip())
        wait(lambda b: BANNER in b, "SeaBIOS banner")
        res["banner_s"] = ps.now()
        if mode == "boot":
            wait(lambda b: b"BOOT-OK\r\n" in b or b"READ-FAIL" in b, "BOOT-OK")
            res["bootok_s"] = ps.now()
            ok, verdict = check(ps.boot, args[2], args[3])
        else:
            wait(lambda b: GRUB_CFG in b, "grub.cfg line")
            res["cfg_s"] = ps.now()
            wait(lambda b: GRUB_CFG in b and b"grub> " in b[b.index(GRUB_CFG):], "grub> prompt")
            res["prompt_s"] = ps.now()
            ok, verdict = check(ps.grub, fifo, args[2])
    except ChildProcessError as e:
        verdict = "the machine %s; output ends %s" % (e, ps.tail(open(out, "rb").read()))
    except TimeoutError as e:
        verdict = str(e)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        os.close(fin)
    verdict = verdict.replace('"', "'")
    if ok:
        print("ok=1 " + " ".join("%s=%.3f" % kv for kv in res.items()) + ' check="%s"' % verdict)
    else:
        errtail = open(err, "rb").read()[-300:].decode(errors="replace").replace("\n", "|")
        print('ok=0 error="%s" log="%s"' % (verdict, errtail.replace('"', "'")))
    sys.exit(0 if ok else 1)


main()

"""Helpers shared by the Python parts of tests/bench/*.sh (imported with
sys.path set to this directory)."""


def rss_kib(pid, skip_memfd=True):
    """(Rss KiB of every mapping of pid, Rss KiB of its /memfd: mappings) from
    /proc/PID/smaps; a VMM's guest RAM is its memfd, so the difference is
    what the process costs beyond the guest's pages."""
    total = memfd = 0
    in_memfd = False
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):   # a mapping header
                in_memfd = "/memfd:" in line
            elif first == "Rss:":
                kib = int(line.split()[1])
                total += kib
                if in_memfd:
                    memfd += kib
    return total, memfd

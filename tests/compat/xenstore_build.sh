#!/bin/bash
# A program written for Xen 4.17's libxenstore builds unchanged against
# ours (headers from pkg-config, -Wall -Werror), links the shared library
# by soname and runs against our daemon.  The program uses every public
# function, type and macro of xenstore.h / xenstore_lib.h.
set -u
. "$(dirname "$0")/xenstore_daemon.inc"
B=$TANDEM_ROOT/${BUILD:-build}
PC=$B/lib/pkgconfig/xenstore.pc
if [ ! -f "$PC" ]; then
    fail "build: pkg-config" "$PC not built"
    exit 1
fi
xsd_start
src=$XSD_DIR/prog.c
cat > "$src" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <xenstore.h>

#define CHECK(name, cond) printf("%s: build: %s\n", (cond) ? "PASS" : "FAIL", name)

int main(void)
{
    struct xs_handle *h = xs_open(XS_OPEN_SOCKETONLY | XS_UNWATCH_FILTER);
    struct xs_permissions perms[2] = { { 0, XS_PERM_NONE }, { 3, XS_PERM_READ | XS_PERM_WRITE } };
    char buf[MAX_STRLEN(unsigned int) + 1], **v;
    unsigned int n = 0, len = 0;
    xs_transaction_t t;
    struct pollfd p;
    void *r;

    CHECK("xs_open", h != NULL);
    if (!h)
        return 1;
    CHECK("xs_daemon_socket", strcmp(xs_daemon_socket(), getenv("XENSTORED_PATH")) == 0);
    CHECK("xs_daemon_rundir", xs_daemon_rundir() != NULL && xs_daemon_socket_ro() != NULL);
    CHECK("xs_write", xs_write(h, XBT_NULL, "/bt/a", "v", 1));
    r = xs_read(h, XBT_NULL, "/bt/a", &len);
    CHECK("xs_read", r && len == 1);
    free(r);
    CHECK("xs_mkdir", xs_mkdir(h, XBT_NULL, "/bt/d"));
    v = xs_directory(h, XBT_NULL, "/bt", &n);
    CHECK("xs_directory", v && n == 2);
    free(v);
    CHECK("xs_set_permissions", xs_set_permissions(h, XBT_NULL, "/bt/a", perms, 2));
    free(xs_get_permissions(h, XBT_NULL, "/bt/a", &n));
    CHECK("xs_get_permissions", n == 2);
    CHECK("xs_perm_to_string", xs_perm_to_string(&perms[1], buf, sizeof(buf)) && strcmp(buf, "b3") == 0);
    CHECK("xs_strings_to_perms", xs_strings_to_perms(perms, 1, "r7") && perms[0].id == 7);
    CHECK("xs_count_strings", xs_count_strings("a\0b\0", 4) == 2);
    CHECK("xs_path_is_subpath", xs_path_is_subpath("/bt", "/bt/a"));
    t = xs_transaction_start(h);
    CHECK("xs_transaction", t != XBT_NULL && xs_transaction_end(h, t, false));
    CHECK("xs_watch", xs_watch(h, "/bt", "tok"));
    p.fd = xs_fileno(h);
    p.events = POLLIN;
    CHECK("xs_fileno", poll(&p, 1, 5000) == 1);
    v = xs_check_watch(h);
    CHECK("xs_check_watch", v && strcmp(v[XS_WATCH_PATH], "/bt") == 0 && strcmp(v[XS_WATCH_TOKEN], "tok") == 0);
    free(v);
    CHECK("xs_rm", xs_rm(h, XBT_NULL, "/bt/d"));
    v = xs_read_watch(h, &n);
    CHECK("xs_read_watch", v && n >= 2 && strcmp(v[XS_WATCH_PATH], "/bt/d") == 0);
    free(v);
    CHECK("xs_unwatch", xs_unwatch(h, "/bt", "tok"));
    r = xs_get_domain_path(h, 3);
    CHECK("xs_get_domain_path", r && strcmp(r, "/local/domain/3") == 0);
    free(r);
    CHECK("xs_is_domain_introduced", xs_is_domain_introduced(h, 0));
    CHECK("xs_restrict", !xs_restrict(h, 1));
    CHECK("xs_write_all", xs_write_all(1, "", 0));
    /* Linked, not run here: they need guests or daemon-specific commands. */
    (void)xs_introduce_domain; (void)xs_release_domain; (void)xs_resume_domain;
    (void)xs_set_target; (void)xs_control_command; (void)xs_debug_command;
    (void)xs_suspend_evtchn_port; (void)xs_daemon_open; (void)xs_domain_open;
    (void)xs_daemon_open_readonly; (void)xs_daemon_close; (void)xs_daemon_destroy_postfork;
    xs_close(h);
    xs_close(NULL);
    return 0;
}
C
flags=$(PKG_CONFIG_PATH=$B/lib/pkgconfig pkg-config --cflags --libs xenstore)
if cc -std=gnu11 -Wall -Wextra -Werror "$src" $flags -o "$XSD_DIR/prog" 2> "$XSD_DIR/cc.log"; then
    pass "build: compile and link with pkg-config ($flags)"
else
    fail "build: compile and link with pkg-config" "$(head -n 5 "$XSD_DIR/cc.log" | tr '\n' ' ')"
    exit 0
fi
needed=$(objdump -p "$XSD_DIR/prog" | awk '/NEEDED/ && /xenstore/ {print $2}')
check "build: links libxenstore.so.4 by soname" "libxenstore.so.4" "$needed"
env=(env LD_LIBRARY_PATH="$B/lib")
[ "${SAN:-0}" = 1 ] && env+=(LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0)
"${env[@]}" "$XSD_DIR/prog"

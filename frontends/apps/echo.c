/*
 * app=echo [timeout=S]: the console's input side.  Prints `echo: ready`,
 * then answers every input line with `echo: <line>` until a line `quit`
 * (prints `echo: bye`, powers off) or S seconds without input (default 60;
 * prints `echo: timeout`, powers off).  Over-long lines are cut at 120
 * characters; carriage returns end a line like newlines.
 */
#include "apps.h"
#include "console.h"
#include "kernel.h"
#include "ktime.h"

#define LINE_MAX 120

int app_echo(const struct cmdline *cl)
{
    uint64_t secs;
    char err[128], line[LINE_MAX + 1];
    size_t used = 0;
    if (cmdline_get_u64(cl, "timeout", 60, 86400, &secs, err, sizeof(err)) < 0) {
        printk("echo: %s\n", err);
        return 1;
    }
    printk("echo: ready\n");
    for (;;) {
        char buf[64];
        size_t n = console_read_wait(buf, sizeof(buf), monotonic_ns() + secs * NSEC_PER_SEC);
        if (n == 0) {
            printk("echo: timeout\n");
            return 0;
        }
        for (size_t i = 0; i < n; i++) {
            if (buf[i] != '\n' && buf[i] != '\r') {
                if (used < LINE_MAX)
                    line[used++] = buf[i];
                continue;
            }
            if (used == 0)
                continue;
            line[used] = '\0';
            used = 0;
            if (strcmp(line, "quit") == 0) {
                printk("echo: bye\n");
                return 0;
            }
            printk("echo: %s\n", line);
        }
    }
}

/* libFuzzer target for the xl.cfg parser and printer (dom0/cfgparse.c,
 * config.c, cfgprint.c): any text either is refused with an error, or
 * parses to a configuration whose print parses back (the round trip that
 * `tandem run -n` promises) and prints the same again. Errors never hold a
 * raw control character. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static char *print(const struct tandem_config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        abort();
    config_print(f, c);
    fclose(f);
    return text;
}

static void no_control_chars(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tandem_config a, b;
    char err[1024];
    config_init(&a);
    if (config_parse_text(&a, (const char *)data, size, "f.cfg", err, sizeof(err)) < 0 ||
        config_finish(&a, err, sizeof(err)) < 0) {
        no_control_chars(err);
        config_free(&a);
        return 0;
    }
    char *p1 = print(&a);
    config_init(&b);
    if (config_parse_text(&b, p1, strlen(p1), "printed", err, sizeof(err)) < 0 ||
        config_finish(&b, err, sizeof(err)) < 0) {
        fprintf(stderr, "printed config does not parse: %s\n%s", err, p1);
        abort();
    }
    char *p2 = print(&b);
    if (strcmp(p1, p2) || strcmp(config_cmdline(&a), config_cmdline(&b))) {
        fprintf(stderr, "round trip differs:\n%s---\n%s", p1, p2);
        abort();
    }
    free(p1);
    free(p2);
    config_free(&a);
    config_free(&b);
    return 0;
}

/* Whole-daemon setup and teardown of the core library. */
#include "xenstored.h"

int xsd_core_init(void)
{
    int err = ev_init();

    if (err)
        return err;
    tree_init();
    watch_init();
    return 0;
}

void xsd_core_fini(void)
{
    socket_close_listener();
    domain_fini();
    conn_close_all();
    watch_fini();
    tree_fini();
    ev_fini();
}

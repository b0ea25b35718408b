/* The verbs of the tandem command; each returns the process exit status. */
#ifndef TANDEM_DOM0_CMDS_H
#define TANDEM_DOM0_CMDS_H

#include <stdbool.h>

int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);   /* also `reboot` (argv[0]) */
int cmd_destroy(int argc, char **argv);
int cmd_pause(int argc, char **argv);      /* also `unpause` (argv[0]) */
int cmd_domid(int argc, char **argv);
int cmd_domname(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_uptime(int argc, char **argv);
int cmd_vcpu_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_services(int argc, char **argv);
int cmd_dmesg(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_block_attach(int argc, char **argv);
int cmd_block_detach(int argc, char **argv);
int cmd_block_list(int argc, char **argv);
int cmd_network_attach(int argc, char **argv);
int cmd_network_detach(int argc, char **argv);
int cmd_network_list(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_restore(int argc, char **argv);
/* cmd_ctl.c: waits (bounded) until the domain's supervisor let go of domid. */
void wait_domid_released(unsigned domid);
/* cmd_run.c: `create` with the first start from a save file (cmd_save.c). */
int cmd_run_restore(const char *cfg_file, const char *save_file, unsigned saved_domid,
                    bool paused, bool attach);

#endif

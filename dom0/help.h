/* The manual of each verb (`tandem help VERB`, `tandem VERB --help`). */
#ifndef TANDEM_DOM0_HELP_H
#define TANDEM_DOM0_HELP_H

#include <stdio.h>

/* Prints VERB's page; -1 if there is none. */
int help_page(FILE *f, const char *verb);

/* The overview: every verb with its synopsis. */
void help_overview(FILE *f);

#endif

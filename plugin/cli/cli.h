/* The gegl-perceptual command line: one function per command. */
#ifndef CLI_H
#define CLI_H

#include <glib.h>

G_BEGIN_DECLS

int  cli_compare (int argc, char **argv);
int  cli_models  (int argc, char **argv);
int  cli_fetch   (int argc, char **argv);

/* Prints "gegl-perceptual: <message>" on stderr. */
void cli_error   (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* `value` as a JSON string literal, quotes included. */
char *cli_json_string (const char *value);

G_END_DECLS

#endif

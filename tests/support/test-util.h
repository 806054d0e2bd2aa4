/* Helpers shared by the C tests: set-up, synthetic models, files. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <glib.h>
#include <json-glib/json-glib.h>

/* What every C test's main () does first: initialises GLib's test
 * framework with the arguments and returns a fresh temporary folder,
 * removed with its files when the process exits.  Owned by the helper.
 */
const char *test_setup     (int    *argc,
                            char ***argv);

/* A synthetic model made by synth_weights.py (found through G_TEST_SRCDIR
 * and run with $PYTHON3) in `dir`; cached by name.
 */
char   *synth_model        (const char *dir,
                            const char *network,
                            const char *calibration,
                            gint64      seed);

/* The same for a ResNet; block and blocks (e.g. "basic", "1,1") describe
 * a custom one, NULL for resnet18/34/50.
 */
char   *synth_resnet       (const char *dir,
                            const char *network,
                            const char *block,
                            const char *blocks,
                            const char *calibration,
                            gint64      seed);

/* Removes a folder with its files and subfolders. */
void    remove_dir         (const char *dir);

/* Copies the safetensors file src to dst after `edit` changed its JSON
 * header (the data area unchanged).
 */
typedef void (*HeaderEdit) (JsonObject *header, gpointer user_data);
void    rewrite_model      (const char *src,
                            const char *dst,
                            HeaderEdit  edit,
                            gpointer    user_data);

/* Writes a raw file. */
void    write_file         (const char *path, const void *data, gsize size);

/* The tests' one .npy reader: a little-endian float32, C-order NumPy
 * array; a test failure on anything else.  Its shape goes to
 * shape[0..rank); free the values with g_free ().
 */
float  *read_npy           (const char *path, int *rank, gint64 shape[4]);

#endif

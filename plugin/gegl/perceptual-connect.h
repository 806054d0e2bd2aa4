/* Connecting a node's output to another's pad on every GEGL the project
 * builds with: GEGL 0.4.62 deprecates gegl_node_connect_to (), and 0.4.42
 * does not have its replacement, gegl_node_connect ().
 */
#ifndef PERCEPTUAL_CONNECT_H
#define PERCEPTUAL_CONNECT_H

#include <gegl.h>

static inline void
perceptual_connect (GeglNode   *source,
                    GeglNode   *sink,
                    const char *sink_pad)
{
#ifdef HAVE_GEGL_NODE_CONNECT
  gegl_node_connect (source, "output", sink, sink_pad);
#else
  gegl_node_connect_to (source, "output", sink, sink_pad);
#endif
}

#endif

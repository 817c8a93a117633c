// libheif's include folder is multiarch on Debian (/usr/include/x86_64-linux-gnu); pkg-config's Cflags add it.
#include <libheif/heif.h>

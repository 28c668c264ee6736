#include "kube/watch/lister_watcher.h"

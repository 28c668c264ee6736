#include "kube/watch/watcher.h"

#include "kube/config/in_cluster.h"

#include "kube/config/kubeconfig.h"

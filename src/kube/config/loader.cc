#include "kube/config/loader.h"

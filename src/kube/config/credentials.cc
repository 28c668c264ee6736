#include "kube/config/credentials.h"

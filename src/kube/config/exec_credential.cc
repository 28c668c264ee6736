#include "kube/config/exec_credential.h"

#include "kube/transport/rest_transport.h"

#include "operators/operator.h"

void sr_operator_destroy(sr_operator *op) {
  if (op && op->vt && op->vt->destroy) op->vt->destroy(op);
}

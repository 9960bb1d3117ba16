#include "gps/augment/views.h"

namespace gps {

const char* view_of_name(ViewOf of) { return of == ViewOf::anchor ? "anchor" : "positive"; }

}  // namespace gps

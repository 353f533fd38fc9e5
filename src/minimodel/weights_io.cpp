#include "minimodel/weights_io.hpp"
// TODO(helper): implementation in progress.

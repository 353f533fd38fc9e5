#include "minimodel/reference.hpp"
// TODO(helper): implementation in progress.

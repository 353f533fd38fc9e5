// Starter copy of fixture.cpp, generated from the solution by cmake/starter.cmake.
// This is YOUR copy: fill in every TODO(student). To start one file over, delete it and
// run `cmake --preset starter` again (docs/student-track.md).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-function"
// A fixture for cmake/starter.cmake (tests/starter/check_strip.cmake): two marked regions,
// one indented deeper, and code before, between and after them.
int untouched() { return 1; }

float piece(float x) {
  const float kept = 2.0f * x;
  // TODO(student): the first piece. Read theory/02-ffn-and-activations.md § GELU: the exact form and the tanh form,
  // write it here, and delete the throw below.
  // | computes: kept + 1, a description line the starter copy keeps
  // |   NumPy:  kept + 1
  throw ::minimodel::NotImplemented("the first piece", "theory/02-ffn-and-activations.md § GELU: the exact form and the tanh form");
}

void loop(int n) {
  for (int i = 0; i < n; ++i) {
    // TODO(student): a piece; with a semicolon. Read labs/00-block-by-hand/README.md § Step 1 · LN1,
    // write it here, and delete the throw below.
    throw ::minimodel::NotImplemented("a piece; with a semicolon", "labs/00-block-by-hand/README.md § Step 1 · LN1");
  }
}
#pragma GCC diagnostic pop

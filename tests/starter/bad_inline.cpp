void f() {
  int x = 0;  // STARTER-BEGIN after code | theory/00-motivation.md § Self-check
  // STARTER-END
}

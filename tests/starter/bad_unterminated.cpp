void f() {
  // STARTER-BEGIN never closed | theory/00-motivation.md § Self-check
  int x = 0;
}

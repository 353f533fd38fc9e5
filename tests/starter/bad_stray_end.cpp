void f() {
  int x = 0;
  // STARTER-END
}

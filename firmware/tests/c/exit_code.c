/* Exits through exit() with code 42 after printing a line. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  printf("exiting with 42\n");
  exit(42);
}

/* Target of the gdb session test: calls tick() in a loop until a debugger sets stop_flag, then
 * prints the counter and exits with code 7. */
#include <stdint.h>
#include <stdio.h>

volatile uint32_t counter;
volatile uint32_t stop_flag;

__attribute__((noinline)) void tick(uint32_t i) { counter += i; }

int main(void) {
  printf("spin start\n");
  for (uint32_t i = 0; stop_flag == 0; ++i) tick(i);
  printf("spin done\n");
  return 7;
}

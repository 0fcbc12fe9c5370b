/* Reports where this chip sits in its pod, as firmware sees it twice: from the control
 * registers and from the launch block's header, on one console line:
 *   id abi_ok index chips x y z | version index chips x y z
 * then exits with 100 + its index, so the chips of a pod end with different codes. */
#include <stdint.h>
#include <stdio.h>

#include "mxemu/hal.h"

static unsigned header(uint32_t off) {
  return (unsigned)mx_launch_u32((const volatile uint8_t*)MX_LAUNCH_BASE, off);
}

int main(void) {
  printf("id %d %u %u %u %u %u | %u %u %u %u %u %u\n", mx_abi_ok(), (unsigned)mx_chip_index(),
         (unsigned)mx_num_chips(), (unsigned)mx_chip_coord(0), (unsigned)mx_chip_coord(1),
         (unsigned)mx_chip_coord(2), header(MX_LAUNCH_VERSION_OFFSET),
         header(MX_LAUNCH_CHIP_INDEX_OFFSET), header(MX_LAUNCH_NUM_CHIPS_OFFSET),
         header(MX_LAUNCH_CHIP_X_OFFSET), header(MX_LAUNCH_CHIP_Y_OFFSET),
         header(MX_LAUNCH_CHIP_Z_OFFSET));
  return 100 + (int)mx_chip_index();
}

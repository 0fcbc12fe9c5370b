/* The mlp kernel as a function of the transformer block (transformer_block.c): its main, renamed,
 * reads the launch block the block writes for each step. A separate translation unit, so the
 * kernel's static helpers stay its own. */
#define main tb_mlp
#include "../mlp/mlp.c"

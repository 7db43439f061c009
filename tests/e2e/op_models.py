"""The models of tests/e2e/test_ops.py: one small module per op family.

Each `Case` is a module whose forward returns a tuple, one output per op (or
overload) tested, named in `outputs` so that a failure says which op broke.
Every op takes its operands from the forward's arguments: `torch.jit.freeze`
(which the compiler runs first) would fold ops on constants away.

Cases whose name starts with `loop_` or `if_` use ops inside a `for` loop
that carries a value, or inside the branches of an `if`; their variants drive
different trip counts (zero included) and branch outcomes.

Cases with `xfail` demonstrate a known bug or gap of the compiler (the
reason says which); test_ops.py marks them `xfail(strict=True)`, so a fix
makes them XPASS and fail until the mark is removed. Cases with
`strict=False` compile without --strict (unlowered ops run as islands).

`FROZEN_AWAY` lists the ops of the frontend's table that `torch.jit.freeze`
(or the compiler's RemoveTensorMutation) always removes or rewrites, or that
torch.jit.script code does not produce, so that no model can put them in
front of the compiler; `test_every_lowered_op_is_covered` checks that every
other op of `loweringTable()` appears in some case.
"""
# The families register their cases in import order.
import op_models_tensor  # noqa: F401,E402
import op_models_control  # noqa: F401,E402
import op_models_zoo  # noqa: F401,E402
from op_case import CASES, Case  # noqa: F401,E402

# ============================================================================================
# ops that torch.jit.freeze removes before the compiler sees them
# ============================================================================================

FROZEN_AWAY = {
    "aten::dropout": "freeze removes dropout of an eval module (and training=False)",
    "aten::feature_dropout": "freeze removes dropout of an eval module (and training=False)",
    "aten::detach": "freeze removes detach",
    "aten::rsub": "freeze decomposes rsub into neg/add or sub",
    "aten::alias": "not produced by torch.jit.script code (torch 1.13)",
    "prim::ConstantChunk": "produced only by the graph fuser, which freeze does not run",
    "prim::NumToTensor": "produced by tracing, not by torch.jit.script code (torch 1.13)",
}


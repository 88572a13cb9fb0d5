//! The linearization of any [`ScalarModel`] at its current parameters theta_0,
//! `f_lin(x; delta) = f(x; theta_0) + <grad_theta f(x; theta_0), delta>` (Lee et al. 2019,
//! arXiv:1902.06720), with no hand-written tangent map: the Jacobian is materialized from
//! per-example gradients on a fixed set of inputs (memory N x P). It is exact on those inputs
//! and only there, which is what a training run needs (its training and test points).
//!
//! Architectures with a hand-written tangent map ([`LinearizedTwoLayer`](crate::LinearizedTwoLayer),
//! [`LinearizedMlp`](crate::LinearizedMlp), [`LinearizedDiagonal`](crate::LinearizedDiagonal))
//! evaluate anywhere without forming J and stay the fast paths; they are tested equal to this one.

use crate::flat::flat_params;
use crate::{ScalarModel, jacobian, tensor1_from_host, tensor2_from_host, to_host};
use burn::module::{Module, Param};
use burn::tensor::{Int, Tensor, TensorData};
use std::collections::HashMap;

/// `f(x; theta_0) + J(x) delta` on the inputs it was built for; `delta` (`[P]`, one entry per
/// scalar parameter of the model, in Burn's visiting order) is the only parameter.
#[derive(Module, Debug)]
pub struct Linearized {
    /// f(x_i; theta_0) on the materialized inputs, `[N]` (a module constant).
    pub f0: Tensor<1>,
    /// J, `[N, P]`: row i is grad_theta f(x_i; theta_0) (a module constant).
    pub jacobian: Tensor<2>,
    /// The displacement delta = theta - theta_0, `[P]`, starting at 0.
    pub delta: Param<Tensor<1>>,
    /// Row index of each materialized input, keyed by its values' bits.
    #[module(skip)]
    rows: RowIndex,
}

/// Input rows, by the bits of their values, to their row in J.
#[derive(Debug, Clone, Default)]
struct RowIndex {
    dim: usize,
    rows: HashMap<Vec<u64>, usize>,
}

impl RowIndex {
    /// The bits of each value (`+ 0.0` folds -0.0 into 0.0).
    fn key(row: &[f64]) -> Vec<u64> {
        row.iter().map(|v| (v + 0.0).to_bits()).collect()
    }
}

impl Linearized {
    /// The linearization of `model` at its current parameters, materialized on the rows of
    /// every tensor in `inputs` (e.g. the training and the test inputs; each `[n_k, d]`).
    /// Identical rows share one Jacobian row.
    pub fn around<M: ScalarModel>(model: &M, inputs: &[&Tensor<2>]) -> Self {
        let device = inputs
            .first()
            .expect("at least one input tensor to materialize the Jacobian on")
            .device();
        let dim = inputs[0].dims()[1];
        assert!(dim > 0, "inputs with at least one column");
        let mut index = RowIndex {
            dim,
            rows: HashMap::new(),
        };
        let mut distinct = Vec::new();
        for x in inputs {
            assert_eq!(x.dims()[1], dim, "every input tensor has the same width");
            for row in to_host((*x).clone()).chunks(dim) {
                let next = index.rows.len();
                if *index.rows.entry(RowIndex::key(row)).or_insert(next) == next {
                    distinct.extend_from_slice(row);
                }
            }
        }
        let n = index.rows.len();
        assert!(
            n > 0,
            "at least one input row to materialize the Jacobian on"
        );
        let x = tensor2_from_host(&distinct, n, dim, &device);
        let (j, params) = jacobian(model, x.clone());
        assert_eq!(
            params,
            flat_params(model).len(),
            "one Jacobian column per parameter"
        );
        Self {
            f0: model.forward(x).detach(),
            jacobian: tensor2_from_host(&j, n, params, &device),
            delta: Param::from_tensor(tensor1_from_host(&vec![0.0; params], &device)),
            rows: index,
        }
    }

    /// The number of parameters P.
    pub fn num_params(&self) -> usize {
        self.jacobian.dims()[1]
    }

    /// The rows of J and f0 that `x` selects; panics naming the first row that was not
    /// materialized.
    fn select(&self, x: &Tensor<2>) -> Tensor<1, Int> {
        let dim = self.rows.dim;
        assert_eq!(
            x.dims()[1],
            dim,
            "input width differs from the materialized inputs'"
        );
        let idx: Vec<i64> = to_host(x.clone())
            .chunks(dim)
            .enumerate()
            .map(|(i, row)| match self.rows.rows.get(&RowIndex::key(row)) {
                Some(&k) => k as i64,
                None => panic!(
                    "Linearized::forward: input row {i} ({row:?}) is not among the {} inputs the Jacobian was materialized on; pass it to Linearized::around",
                    self.rows.rows.len()
                ),
            })
            .collect();
        let n = idx.len();
        Tensor::from_data(TensorData::new(idx, [n]), &x.device())
    }
}

impl ScalarModel for Linearized {
    fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let idx = self.select(&x);
        let n = x.dims()[0];
        let p = self.num_params();
        let tangent = self
            .jacobian
            .clone()
            .select(0, idx.clone())
            .matmul(self.delta.val().reshape([p, 1]));
        self.f0.clone().select(0, idx) + tangent.reshape([n])
    }
}

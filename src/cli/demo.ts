// `puzzlelib demo`: the example of PuzzleLib's Activation page, step by step, then a backward pass.

import { Activation, gpuarray, np, slice } from "../index.js";

type Print = (line: string) => void;

export async function demo(print: Print): Promise<void> {
  const show = (code: string): void => print(`>>> ${code}`);

  show("np.random.seed(123)");
  np.random.seed(123);
  const [h, w] = [3, 3];
  show('data = gpuarray.toGpu(np.random.randint(-10, 10, [h, w]).astype("float32"))');
  const data = gpuarray.toGpu(np.random.randint(-10, 10, [h, w]).astype("float32"));
  show("print(await data.get())");
  print(String(await data.get()));

  show('act = new Activation("sigmoid")');
  const sigmoid = new Activation("sigmoid");
  show("print(await act.forward(data).get())");
  print(String(await sigmoid.forward(data).get()));

  show('act = new Activation("relu")');
  const relu = new Activation("relu");
  show("print(await act.forward(data).get())");
  print(String(await relu.forward(data).get()));

  print("");
  print("# Backward runs from the output: the relu gradient passes where the output is positive.");
  show('grad = gpuarray.toGpu(np.random.randn(h, w).astype("float32"))');
  const grad = gpuarray.toGpu(np.random.randn(h, w).astype("float32"));
  show("print(await grad.get())");
  print(String(await grad.get()));
  show("print(await act.backward(grad).get())");
  print(String(await relu.backward(grad).get()));

  print("");
  print("# Only every other element, with slc: the rest pass through unchanged.");
  show('act = new Activation("sigmoid", { slc: slice(null, null, 2) })');
  const partial = new Activation("sigmoid", { slc: slice(null, null, 2) });
  show("print(await act.forward(data).get())");
  print(String(await partial.forward(data).get()));
}

"""The PyTorch reference row of `npm run bench`: the kit's MLP of record or its CNN, same data and settings.

MLP: 784-256-128-10, ReLU, dropout 0.2, L2 1e-4 on the kernels, Adam 1e-3 (eps 1e-7, as TensorFlow.js).
CNN: conv 3x3 16 -> max-pool 2 -> conv 3x3 32 -> max-pool 2 -> dense 64 -> 10 (valid padding), Adam 1e-3;
56,714 parameters, as lib/ml/cnn.ts. Batch 128, the 60,000 training images of the IDX files.
Usage: python3 torch-reference.py IDX_DIR EPOCHS mlp|cnn   (threads: TORCH_THREADS, default 1)
Prints one JSON line per epoch and a last {"event":"done",...} line.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch


def idx(path, header):
    with open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def images(path):
    return torch.from_numpy(idx(path, 16).reshape(-1, 784).astype(np.float32) / 255)


def labels(path):
    return torch.from_numpy(idx(path, 8).astype(np.int64))


def mlp():
    l1, l2, l3 = torch.nn.Linear(784, 256), torch.nn.Linear(256, 128), torch.nn.Linear(128, 10)
    for layer in (l1, l2, l3):
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    model = torch.nn.Sequential(
        l1, torch.nn.ReLU(), torch.nn.Dropout(0.2), l2, torch.nn.ReLU(), torch.nn.Dropout(0.2), l3
    )
    return model, lambda: 1e-4 * (l1.weight.pow(2).sum() + l2.weight.pow(2).sum())


def cnn():
    model = torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 28, 28)),
        torch.nn.Conv2d(1, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(800, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10),
    )
    return model, lambda: 0.0


def main():
    folder, epochs, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    threads = int(os.environ.get("TORCH_THREADS", "1"))
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    x = images(f"{folder}/train-images-idx3-ubyte")
    y = labels(f"{folder}/train-labels-idx1-ubyte")
    xt = images(f"{folder}/t10k-images-idx3-ubyte")
    yt = labels(f"{folder}/t10k-labels-idx1-ubyte")
    model, penalty = (cnn if kind == "cnn" else mlp)()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    times, acc = [], 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            batch = order[i : i + 128]
            loss = loss_fn(model(x[batch]), y[batch]) + penalty()
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - start
        times.append(seconds)
        model.eval()
        with torch.no_grad():
            acc = (model(xt).argmax(1) == yt).float().mean().item()
        print(json.dumps({"epoch": epoch, "seconds": round(seconds, 3), "testAccuracy": acc}), flush=True)
    steady = times[1:] or times
    print(json.dumps({
        "event": "done", "model": kind, "threads": threads, "torch": torch.__version__,
        "epochs": times, "secondsPerEpoch": statistics.median(steady), "testAccuracy": acc,
    }))


if __name__ == "__main__":
    main()

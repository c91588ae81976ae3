"""Fashion-MNIST: 70,000 grey-scale 28x28 images of clothing in MNIST's format and split sizes."""

from .contract import DataContract
from .mnist_datamodule import MNISTDataModule


class FashionMNISTDataModule(MNISTDataModule):
    """Zalando's drop-in replacement for MNIST (https://github.com/zalandoresearch/fashion-mnist):
    the same four IDX files, harder to classify. Files and mirrors in configs/data/fashion_mnist.yaml."""

    contract = DataContract.classification(
        (1, 28, 28),
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    )
    folder_name = "fashion_mnist"

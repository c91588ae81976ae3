"""Reading the files data sets come in: IDX (MNIST), CIFAR batches, CSV and Parquet tables."""

"""Getting data set files: checksummed downloads from mirrors, unpacking archives."""

"""The dataset's views: the image browser, thumbnails, the augmentation preview."""

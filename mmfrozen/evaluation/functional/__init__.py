from .frequency_ap import (FREQUENCY_BUCKETS, category_frequencies, frequency_bucket_ap,
                           limit_dets_per_image, per_category_ap)

__all__ = ['FREQUENCY_BUCKETS', 'category_frequencies', 'frequency_bucket_ap',
           'limit_dets_per_image', 'per_category_ap']

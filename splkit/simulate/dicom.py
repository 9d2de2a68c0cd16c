"""Write a simulated B-mode image as an ultrasound DICOM file (to exercise the DICOM reader).

Ultrasound Image Storage, MONOCHROME2, 8 bits, with one Sequence of Ultrasound Regions item whose
physical deltas give the pixel spacing in cm (PhysicalUnitsX/YDirection = 3, DICOM PS3.3 C.8.5.5).
UIDs are derived from the seed and patient index, and dates are fixed, so files are reproducible.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, UltrasoundImageStorage, generate_uid


def write_us_dicom(
    path: Path, image: np.ndarray, spacing_mm: float, patient_id: str, seed: int, index: int
) -> None:
    """Write ``image`` (uint8, rows x columns) as an ultrasound DICOM file at ``path``."""
    entropy = [f"splkit-simulate-{seed}-{index}"]
    sop_uid = generate_uid(entropy_srcs=[*entropy, "sop"])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UltrasoundImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = generate_uid(entropy_srcs=["splkit-simulate"])

    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = UltrasoundImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = generate_uid(entropy_srcs=[*entropy, "study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[*entropy, "series"])
    ds.Modality = "US"
    ds.PatientID = patient_id
    ds.PatientName = f"SIMULATED^{patient_id}"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240101"
    ds.StudyTime = ds.ContentTime = "120000"
    ds.Manufacturer = "splkit simulated"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = (int(v) for v in image.shape)
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0

    region = Dataset()
    region.RegionSpatialFormat = 1  # 2-D tissue
    region.RegionDataType = 1  # tissue
    region.RegionFlags = 0
    region.RegionLocationMinX0 = 0
    region.RegionLocationMinY0 = 0
    region.RegionLocationMaxX1 = int(image.shape[1]) - 1
    region.RegionLocationMaxY1 = int(image.shape[0]) - 1
    region.PhysicalUnitsXDirection = 3  # cm
    region.PhysicalUnitsYDirection = 3
    region.PhysicalDeltaX = float(spacing_mm) / 10.0
    region.PhysicalDeltaY = float(spacing_mm) / 10.0
    ds.SequenceOfUltrasoundRegions = Sequence([region])
    ds.PixelData = np.ascontiguousarray(image, dtype=np.uint8).tobytes()
    ds.save_as(path, enforce_file_format=True)

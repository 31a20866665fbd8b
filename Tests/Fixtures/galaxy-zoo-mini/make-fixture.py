#!/usr/bin/env python3
"""Rebuilds this fixture: a miniature of the Galaxy Zoo 2 download sources.

Usage: make-fixture.py GALAXY_BIN   (tiny JPEGs come from `galaxy synth --size 48`)
"""
import csv, gzip, hashlib, io, json, os, subprocess, sys, tempfile, zipfile

here = os.path.dirname(os.path.abspath(__file__))
# dr7objid, gz2_class, asset id (None: not in the mapping), in the zip?
GALAXIES = [
    ("587722981741363294", "Ei", "100008", True),
    ("587722981741363323", "Er(m)", "100023", True),
    ("587722981741559888", "Ec", "100053", True),
    ("587722981741625483", "Sc2m", "100078", True),
    ("587722981741822002", "Sb+t", "100090", True),
    ("587722981742018612", "Sa", "100122", True),
    ("587722981742084144", "Sd?t(i)", "100123", True),
    ("587722981742149785", "Ser", "100128", True),
    ("587722981742215301", "Sen(d)", "100134", True),
    ("587722981742280852", "SBb2l", "100143", True),
    ("587722981742346389", "SBc4m", "100158", True),
    ("587722981742411924", "SBa", "100160", True),
    ("587722981742477452", "SBd1t(r)", "100163", True),
    ("587722981742543016", "A", "100172", True),
    ("587722981742608520", "Sc3l", None, False),       # no asset in the mapping
    ("587722981742674059", "Eb", "100190", True),       # no such class: skipped as unmappable
    ("587722981742739600", "Sb2m", "100201", False),    # mapped, but missing from the archive
]

def main():
    galaxy = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([galaxy, "synth", "--out", tmp, "--count", str(len(GALAXIES)), "--size", "48",
                        "--seed", "5", "--quiet"], check=True, stdout=subprocess.DEVNULL)
        jpegs = [open(os.path.join(tmp, "images", f"{i + 1}.jpg"), "rb").read() for i in range(len(GALAXIES))]

    files = os.path.join(here, "zenodo", "records", "3565489", "files")
    os.makedirs(files, exist_ok=True)
    with zipfile.ZipFile(os.path.join(files, "images_gz2.zip"), "w", zipfile.ZIP_STORED) as z:
        for (objid, cls, asset, in_zip), jpeg in zip(GALAXIES, jpegs):
            if asset and in_zip:
                info = zipfile.ZipInfo(f"images/{asset}.jpg", date_time=(2019, 12, 3, 12, 0, 0))
                z.writestr(info, jpeg)
                # The real archive was zipped on a Mac and carries resource forks.
                fork = zipfile.ZipInfo(f"__MACOSX/images/._{asset}.jpg", date_time=(2019, 12, 3, 12, 0, 0))
                z.writestr(fork, b"\x00\x05\x16\x07" + b"\x00" * 78)
    with open(os.path.join(files, "gz2_filename_mapping.csv"), "w", newline="") as f:
        f.write("objid,sample,asset_id\n")
        for objid, cls, asset, in_zip in GALAXIES:
            if asset:
                f.write(f"{objid},original,{asset}\n")

    hart = os.path.join(here, "gz2hart")
    os.makedirs(hart, exist_ok=True)
    text = io.StringIO()
    text.write("dr7objid,ra,dec,rastring,decstring,sample,gz2_class,total_classifications,total_votes,"
               "t01_smooth_or_features_a01_smooth_count,t01_smooth_or_features_a01_smooth_weight,"
               "t01_smooth_or_features_a01_smooth_fraction\n")
    for i, (objid, cls, asset, in_zip) in enumerate(GALAXIES):
        ra = 179.0 + 0.37 * i
        dec = -0.5 + 0.11 * i
        text.write(f"{objid},{ra:.6f},{dec:.6f},11:{56 + i // 10:02d}:{(i * 7) % 60:05.2f},"
                   f"-00:{30 - i:02d}:{(i * 13) % 60:04.1f},original,{cls},{40 + i},{160 + 3 * i},"
                   f"{5 + i},{5.0 + i:.1f},{(5 + i) / (40 + i):.3f}\n")
    with open(os.path.join(hart, "gz2_hart16.csv.gz"), "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(text.getvalue().encode())

    record = {"id": 3565489, "doi": "10.5281/zenodo.3565489",
              "metadata": {"title": "Galaxy Zoo 2: Images from Original Sample"}, "files": []}
    for name in ("gz2_filename_mapping.csv", "images_gz2.zip"):
        data = open(os.path.join(files, name), "rb").read()
        record["files"].append({"key": name, "size": len(data),
                                "checksum": "md5:" + hashlib.md5(data).hexdigest(),
                                "links": {"self": f"/records/3565489/files/{name}"}})
    api = os.path.join(here, "zenodo", "api", "records")
    os.makedirs(api, exist_ok=True)
    with open(os.path.join(api, "3565489"), "w") as f:
        json.dump(record, f, indent=2)
        f.write("\n")

main()

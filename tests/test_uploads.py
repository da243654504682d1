"""nnplay's sandbox for data.path: a link, an uploaded spec or a hosted server can name only
CSV files uploaded to nnplay, never a byte of any other file on the server."""
import os

import pytest

from nnplay import data, uploads
from nnplay.data import DataError
from nnplay.spec import DataSpec, Experiment, SpecError

from conftest import make_exp, open_page

CSV = b"x1,x2,label\n" + b"".join(b"%d,%d,%d\n" % (i, i % 7, i % 2) for i in range(40))
SECRET = "nnplay-secret-do-not-show"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secrets.env"
    path.write_text(f"API_KEY={SECRET}\n")
    return path


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("NNPLAY_HOSTED", "1")


def link_to(path) -> str:
    return make_exp(data={"dataset": "csv", "path": str(path)}).to_url()


HOSTILE_PATHS = ["/etc/passwd", "/proc/self/environ", "/dev/zero", "../../etc/passwd",
                 "secrets.toml", "~/.ssh/id_rsa", "upload:../../etc/passwd",
                 "upload:0123456789abcdef/../../../etc/passwd", "uploads/../../x.csv",
                 "/tmp/uploads/../etc/abcdefabcdefabcd.csv.x"]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_a_link_naming_a_server_file_is_refused_with_the_fix(home, path):
    with pytest.raises(SpecError, match="upload the file on the Data page"):
        Experiment.from_url(link_to(path))


def test_a_link_never_shows_the_file_it_names(home, secret_file):
    with pytest.raises(SpecError) as refused:
        Experiment.from_url(link_to(secret_file))
    assert SECRET not in str(refused.value)


def test_an_upload_round_trips_through_a_link(home):
    ref = uploads.save(CSV, "C:\\Users\\ana\\my data.csv")
    assert ref.startswith("upload:") and ref.endswith("/my data.csv")
    assert (home / "uploads").is_dir() and not str(home) in ref   # no server path in a link
    exp = Experiment.from_url(link_to(ref))
    ds = data.load(exp.data)
    assert ds.info.task == "binary" and ds.x_train.shape[1] == 2
    assert uploads.display_name(ref) == "my data.csv"


def test_an_older_specs_stored_upload_path_still_opens(home):
    ref = uploads.save(CSV, "a.csv")
    digest = uploads.upload_digest(ref)
    old_style = f"/somewhere/else/.nnplay/uploads/{digest}.csv"  # as specs saved before named it
    assert uploads.read(old_style) == CSV
    assert Experiment.from_url(link_to(old_style)).data.path == old_style


def test_an_upload_from_another_server_says_to_upload_it_again(home):
    with pytest.raises(DataError, match="not on this server.*upload it again"):
        data.load(DataSpec(dataset="csv", path="upload:0123456789abcdef/grades.csv"))


def test_a_symlink_planted_among_the_uploads_is_not_followed(home, secret_file):
    folder = home / "uploads"
    folder.mkdir(parents=True)
    os.symlink(secret_file, folder / "0123456789abcdef.csv")
    with pytest.raises(DataError) as refused:
        data.load(DataSpec(dataset="csv", path="upload:0123456789abcdef/x.csv"))
    assert SECRET not in str(refused.value)


def test_hosted_mode_refuses_local_paths_everywhere(home, hosted, secret_file):
    with pytest.raises(DataError, match="upload the file on the Data page") as refused:
        data.load(DataSpec(dataset="csv", path=str(secret_file)))
    assert SECRET not in str(refused.value)
    with pytest.raises(DataError, match="not a file uploaded"):
        data.describe(DataSpec(dataset="csv", path=str(secret_file)))


def test_devices_and_fifos_are_refused_without_reading(home, tmp_path):
    with pytest.raises(DataError, match="not a regular file"):
        data.load(DataSpec(dataset="csv", path="/dev/zero"))
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)   # nobody writes: a plain open() would block forever
    with pytest.raises(DataError, match="not a regular file"):
        data.load(DataSpec(dataset="csv", path=str(fifo)))


def test_reads_are_bounded_by_the_upload_limit(home, tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_MAX_UPLOAD_MB", "0.001")   # 1 KB
    big = tmp_path / "big.csv"
    big.write_bytes(CSV * 10)
    with pytest.raises(DataError, match="CSV file big.csv is .*at most 0.001 MB.*NNPLAY_MAX_UPLOAD_MB"):
        data.load(DataSpec(dataset="csv", path=str(big)))
    with pytest.raises(uploads.FileRefused, match="NNPLAY_MAX_UPLOAD_MB"):
        uploads.save(CSV * 10, "big.csv")


def test_the_laptop_cli_reads_a_local_path_but_not_when_hosted(home, tmp_path, monkeypatch, capsys):
    from nnplay.cli import main
    table = tmp_path / "t.csv"
    table.write_bytes(CSV)
    spec = tmp_path / "spec.json"
    spec.write_text(make_exp(data={"dataset": "csv", "path": str(table)}).to_json())
    assert main(["summary", str(spec)]) == 0
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    assert main(["summary", str(spec)]) == 2
    assert "upload the file on the Data page" in capsys.readouterr().err


def test_the_data_page_refuses_a_hostile_link_and_shows_no_file(home, secret_file):
    at = open_page("views/data.py", query={"x": link_to(secret_file)})
    shown = " ".join(str(e.value) for kind in ("error", "warning", "markdown", "caption", "code")
                     for e in getattr(at, kind))
    assert "upload the file on the Data page" in shown
    assert SECRET not in shown and SECRET not in str(at.session_state["nnplay_experiment"].to_json())
    assert not at.exception


def test_an_uploaded_spec_naming_a_server_file_is_refused(home, secret_file):
    at = open_page("views/data.py")
    spec = make_exp(data={"dataset": "csv", "path": str(secret_file)}).to_json().encode()
    at.sidebar.file_uploader(key="spec_upload").upload("spec.json", spec, "application/json").run()
    errors = " ".join(e.value for e in at.error)
    assert "not an nnplay spec" in errors and "upload the file on the Data page" in errors
    assert SECRET not in errors and at.session_state["nnplay_experiment"].data.path is None


def test_pages_name_an_upload_by_its_file_name(home):
    from nnplay.spec import describe_change
    ref = uploads.save(CSV, "grades.csv")
    assert describe_change("data.path", None, ref) == "CSV file changed from none to grades.csv"


def test_a_link_that_hides_unknown_controls_or_follows_a_gone_job_says_so(home, jobs):
    at = open_page("views/train.py",
                   query={"hide": "train.optimizer,train.warp_drive", "job": "no-such-job"})
    said = " ".join(i.value for i in at.info)
    assert "hides controls nnplay does not have (train.warp_drive)" in said
    assert "not on this server any more" in said
    assert at.session_state["nnplay_hidden"] == {"train.optimizer", "train.warp_drive"}
    assert not at.exception

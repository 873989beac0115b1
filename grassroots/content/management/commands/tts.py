"""`grassroots tts`: the Vietnamese text normaliser and speech synthesis from the command line."""

from django.core.management.base import BaseCommand, CommandError

from grassroots.content.media import MediaRejected, measure_loudness
from grassroots.content.tts import ESPEAK_VOICES, normalize, synthesize_to_file


class Command(BaseCommand):
    help = (
        'Đọc văn bản tiếng Việt: `tts normalize "VĂN BẢN"` in ra văn bản đọc; '
        '`tts say "VĂN BẢN" -o TỆP` ghi âm thanh đã chuẩn hoá (Opus, hoặc WAV nếu tệp .wav).'
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        norm = sub.add_parser("normalize", help="In ra văn bản đọc (reading text).")
        norm.add_argument("text", nargs="+", help="Văn bản (hoặc - để đọc từ stdin)")
        norm.add_argument("--voice", default="vi", choices=ESPEAK_VOICES)
        say = sub.add_parser("say", help="Ghi giọng đọc đã chuẩn hoá âm lượng ra tệp.")
        say.add_argument("text", nargs="+", help="Văn bản (hoặc - để đọc từ stdin)")
        say.add_argument("-o", "--output", required=True, help="Tệp ra: .opus/.ogg hoặc .wav")
        say.add_argument("--voice", default="vi")
        say.add_argument("--speed", type=int, default=150, help="Tốc độ đọc, từ/phút")
        say.add_argument("--engine", default=None, help="espeak | piper (mặc định theo cấu hình)")

    def handle(self, *args, action, text, **opts):
        body = " ".join(text)
        if body == "-":
            import sys

            body = sys.stdin.read()
        if action == "normalize":
            self.stdout.write(normalize(body, voice=opts["voice"]))
            return
        try:
            facts = synthesize_to_file(
                body,
                opts["output"],
                voice=opts["voice"],
                speed=opts["speed"],
                engine=opts["engine"],
            )
        except MediaRejected as exc:
            raise CommandError(exc.message) from exc
        loudness = measure_loudness(facts["path"])
        self.stdout.write(
            f"{facts['path']}: {facts['duration_seconds']:.1f} s, "
            f"{loudness['integrated_lufs']:.1f} LUFS, {loudness['true_peak_dbtp']:.1f} dBTP"
        )
